import { z } from "zod";
import { PII } from "../../platform/columns";
import { defineContract } from "../../platform/contract";

const tier = z.enum(["free", "premium", "family"]);
const country = z.string().regex(/^[A-Z]{2}$/, "ISO 3166-1 alpha-2 country code");

const v1 = {
  "user.created": z.object({
    userId: z.string().min(1).max(256),
    country,
    // Personal data: withheld at rest from subscriptions that do not declare includePii.
    birthYear: z.number().int().min(1900).max(2100).optional().meta(PII),
    tier,
    createdAt: z.iso.datetime({ offset: true }),
  }),
  "user.updated": z.object({
    userId: z.string().min(1).max(256),
    country: country.optional(),
    tier: tier.optional(),
    updatedAt: z.iso.datetime({ offset: true }),
  }),
};

/** v2 adds the user's preferred language, optional so that v1 events still read. */
const v2 = {
  "user.created": v1["user.created"].extend({ language: z.string().min(2).max(35).optional() }),
  "user.updated": v1["user.updated"].extend({ language: z.string().min(2).max(35).optional() }),
};

export const userEvents = defineContract("users.user-events", [
  { version: 1, events: v1 },
  { version: 2, events: v2 },
]);

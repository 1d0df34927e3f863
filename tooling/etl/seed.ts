/**
 * A generated catalogue for the local pipeline, the same for the same seed: users (the users
 * database's rows), songs and episodes (the catalogue tables' items, outbox items among them) and
 * interactions (the rows Firehose lands), each with a share of rows that break their contract and,
 * for interactions, records landed twice.
 */
import { seededRandom } from "../random";

export interface SeedOptions {
  readonly seed: number;
  readonly users: number;
  readonly songs: number;
  readonly episodes: number;
  readonly interactions: number;
  /** Share of rows that break their contract. @default 0.03 */
  readonly badShare?: number;
  /** Share of interaction records landed twice. @default 0.03 */
  readonly duplicateShare?: number;
  /** Every change time falls in `[from, from + days)`. */
  readonly from: Date;
  readonly days: number;
}

/** A users database row (public.users), as the users service writes it. */
export interface UserRow {
  readonly user_id: string;
  readonly country: string;
  readonly birth_year: number | null;
  readonly tier: string | null;
  readonly language: string | null;
  readonly created_at: Date | null;
  readonly updated_at: Date | null;
}

/** A landed interaction row, typed as the product's Glue table (Firehose's Parquet conversion). */
export interface LandedInteraction {
  readonly event_id: string | null;
  readonly event_type: string;
  readonly event_time: Date | null;
  readonly user_id: string | null;
  readonly item_id: string;
  readonly item_type: string;
  readonly session_id: string;
  readonly occurred_at: Date | null;
  readonly device: string | null;
  readonly played_ms: number | null;
  readonly position_ms: number | null;
}

/** The event payload a landed row was flattened from (`runtime/landing.ts`), absent fields left out. */
export function landedPayload(row: LandedInteraction): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries({
      userId: row.user_id,
      itemId: row.item_id,
      itemType: row.item_type,
      sessionId: row.session_id,
      occurredAt: row.occurred_at?.toISOString(),
      device: row.device,
      playedMs: row.played_ms,
      positionMs: row.position_ms,
    }).filter(([, value]) => value !== null && value !== undefined),
  );
}

export interface Catalogue {
  readonly users: UserRow[];
  /** Catalogue table items of the songs domain: `song#<id>`/`song` items and outbox items. */
  readonly songItems: Record<string, unknown>[];
  readonly episodeItems: Record<string, unknown>[];
  readonly interactions: LandedInteraction[];
  /** How many rows of each source were made to break their contract. */
  readonly bad: { users: number; songs: number; episodes: number; interactions: number };
  readonly duplicates: number;
}

const COUNTRIES = ["GB", "DE", "FR", "ES", "US", "BR", "JP", "SE"];
const TIERS = ["free", "premium", "family"];
const LANGUAGES = ["en", "de", "fr", "es", "pt", "ja", "sv"];
const GENRES = ["rock", "pop", "jazz", "ambient", "hip-hop", "classical", "folk", "electronic"];
const CATEGORIES = ["news", "comedy", "science", "history", "sports", "true-crime"];
const DEVICES = ["mobile", "desktop", "web", "speaker", "car"];

export function generateCatalogue(options: SeedOptions): Catalogue {
  const next = seededRandom(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const badShare = options.badShare ?? 0.03;
  const isBad = () => next() < badShare;
  const span = options.days * 86_400_000;
  const at = (after = 0) => new Date(options.from.getTime() + after + Math.floor(next() * (span - after)));
  const bad = { users: 0, songs: 0, episodes: 0, interactions: 0 };

  const users: UserRow[] = [];
  for (let i = 0; i < options.users; i++) {
    const created = at();
    const updated = next() < 0.3 ? new Date(created.getTime() + Math.floor(next() * 86_400_000)) : null;
    const row: UserRow = {
      user_id: `u-${i}`,
      country: pick(COUNTRIES),
      birth_year: next() < 0.8 ? int(1940, 2010) : null,
      tier: pick(TIERS),
      language: next() < 0.7 ? pick(LANGUAGES) : null,
      created_at: created,
      updated_at: updated && updated.getTime() < options.from.getTime() + span ? updated : null,
    };
    if (isBad()) {
      bad.users++;
      const breaks: Partial<UserRow>[] = [
        { country: "gb" },
        { tier: "gold" },
        { tier: null },
        { birth_year: 1850 },
        { language: "x" },
      ];
      users.push({ ...row, ...pick(breaks) });
    } else users.push(row);
  }

  const songItems: Record<string, unknown>[] = [];
  for (let i = 0; i < options.songs; i++) {
    const published = at();
    const item: Record<string, unknown> = {
      pk: `song#s-${i}`,
      sk: "song",
      songId: `s-${i}`,
      title: `Song ${i}`,
      artistId: `a-${i % 400}`,
      genres: GENRES.filter(() => next() < 0.25),
      durationMs: int(60_000, 420_000),
      releaseYear: int(1960, 2026),
      explicit: next() < 0.1,
      publishedAt: published.toISOString(),
    };
    if (next() < 0.2) item.updatedAt = new Date(published.getTime() + 3_600_000).toISOString();
    if (isBad()) {
      bad.songs++;
      const breaks: Record<string, unknown>[] = [
        { durationMs: "three minutes" },
        { releaseYear: 3000 },
        { genres: ["rock", ""] },
        { title: undefined },
        { publishedAt: "yesterday" },
      ];
      Object.assign(item, pick(breaks));
    }
    songItems.push(item);
    // The outbox items of the same table: not songs, never rows of the product.
    if (i % 10 === 0) songItems.push({ pk: `outbox#song-events#s-${i}`, sk: "outbox", events: "[]" });
  }

  const episodeItems: Record<string, unknown>[] = [];
  for (let i = 0; i < options.episodes; i++) {
    const item: Record<string, unknown> = {
      pk: `episode#e-${i}`,
      sk: "episode",
      episodeId: `e-${i}`,
      podcastId: `p-${i % 150}`,
      title: `Episode ${i}`,
      category: pick(CATEGORIES),
      language: pick(LANGUAGES),
      durationMs: int(300_000, 7_200_000),
      explicit: next() < 0.05,
      publishedAt: at().toISOString(),
    };
    if (isBad()) {
      bad.episodes++;
      const breaks: Record<string, unknown>[] = [
        { durationMs: -5 },
        { explicit: "maybe" },
        { category: undefined },
        { language: "x" },
      ];
      Object.assign(item, pick(breaks));
    }
    episodeItems.push(item);
    if (i % 10 === 0) episodeItems.push({ pk: `outbox#episode-events#e-${i}`, sk: "outbox", events: "[]" });
  }

  const interactions: LandedInteraction[] = [];
  let duplicates = 0;
  // A few active users do most of the listening, as in a real service.
  const activeUsers = Math.max(1, Math.floor(options.users / 5));
  for (let i = 0; i < options.interactions; i++) {
    const song = next() < 0.7;
    const kind = pick(["play", "play", "play", "skip", "like", "follow"]);
    const occurred = at();
    const userIndex = next() < 0.8 ? int(0, activeUsers - 1) : int(0, options.users - 1);
    const follow = kind === "follow";
    const row: LandedInteraction = {
      event_id: `evt-${options.seed}-${i}`,
      event_type: `interaction.${kind}`,
      event_time: new Date(occurred.getTime() + int(0, 5_000)),
      user_id: `u-${userIndex}`,
      item_id: follow
        ? song
          ? `a-${int(0, 399)}`
          : `p-${int(0, 149)}`
        : song
          ? `s-${int(0, options.songs - 1)}`
          : `e-${int(0, options.episodes - 1)}`,
      item_type: follow ? (song ? "artist" : "podcast") : song ? "song" : "episode",
      session_id: `sess-${userIndex}-${Math.floor(occurred.getTime() / 3_600_000)}`,
      occurred_at: occurred,
      device: next() < 0.9 ? pick(DEVICES) : null,
      played_ms: kind === "play" ? int(0, 400_000) : null,
      position_ms: kind === "skip" ? int(0, 60_000) : null,
    };
    if (isBad()) {
      bad.interactions++;
      const breaks: Partial<LandedInteraction>[] = [
        { user_id: null },
        { item_type: "video" },
        { device: "tv" },
        { occurred_at: null },
        { event_type: "interaction.share" },
      ];
      interactions.push({ ...row, ...pick(breaks) });
    } else interactions.push(row);
    if (next() < (options.duplicateShare ?? 0.03)) {
      duplicates++;
      interactions.push(interactions[interactions.length - 1]!);
    }
  }
  return { users, songItems, episodeItems, interactions, bad, duplicates };
}

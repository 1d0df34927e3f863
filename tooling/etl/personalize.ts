import avro from "avsc";
import type { PersonalizeAvroSchema } from "../../components/personalize/schemas";

/**
 * Amazon Personalize's import rules for a dataset's CSV files, checked here on the merge's output:
 * the header names the schema's fields, every row is a valid record of the Avro schema (required
 * fields present, numbers where the schema says so), ids and categorical values within their
 * lengths, timestamps in Unix seconds, and the interactions the training needs (docs/etl.md).
 */
export const PersonalizeImportRules = {
  /** USER_ID and ITEM_ID: at most 256 characters. */
  idLength: 256,
  /** A categorical string value: at most 1,000 characters. */
  categoricalLength: 1000,
  /** Training needs at least 1,000 interactions ... */
  minInteractions: 1000,
  /** ... from at least 25 users with at least 2 interactions each. */
  minUsersWithTwoInteractions: 25,
} as const;

export interface DatasetCheck {
  readonly rows: number;
  /** Each problem with its row (1-based, after the header) and column. */
  readonly problems: string[];
}

type Row = Record<string, string | null>;

const MAX_PROBLEMS = 20;

/** Checks one dataset's rows (strings as read from the CSV, empty as null) against its schema. */
export function checkDataset(
  schema: PersonalizeAvroSchema,
  header: readonly string[],
  rows: readonly Row[],
): DatasetCheck {
  const problems: string[] = [];
  const fields = schema.fields.map((field) => field.name);
  if (JSON.stringify(header) !== JSON.stringify(fields)) {
    problems.push(
      `${schema.name}: header is ${header.join(",")}, the schema's fields are ${fields.join(",")}`,
    );
    return { rows: rows.length, problems };
  }
  const type = avro.Type.forSchema(schema as unknown as avro.Schema);
  rows.forEach((row, index) => {
    if (problems.length >= MAX_PROBLEMS) return;
    const where = `${schema.name} row ${index + 1}`;
    const record: Record<string, unknown> = {};
    for (const field of schema.fields) {
      const base = typeof field.type === "string" ? field.type : field.type[1];
      const text = row[field.name];
      let value: unknown = text === undefined || text === "" ? null : text;
      if (value !== null && base !== "string") {
        const number = Number(value);
        if (Number.isNaN(number)) {
          problems.push(`${where}: ${field.name} ${String(value)} is not a ${base}`);
          continue;
        }
        value = number;
      }
      record[field.name] = value;
      if (typeof text !== "string" || text === "") continue;
      if (/^(USER|ITEM)_ID$/.test(field.name) && text.length > PersonalizeImportRules.idLength) {
        problems.push(`${where}: ${field.name} is longer than ${PersonalizeImportRules.idLength} characters`);
      }
      if (field.categorical && text.length > PersonalizeImportRules.categoricalLength) {
        problems.push(
          `${where}: ${field.name} is longer than ${PersonalizeImportRules.categoricalLength} characters`,
        );
      }
      if (/TIMESTAMP$/.test(field.name) && !/^[0-9]{1,10}$/.test(text)) {
        problems.push(`${where}: ${field.name} ${text} is not in Unix seconds`);
      }
    }
    const paths: string[] = [];
    if (!type.isValid(record, { errorHook: (path) => paths.push(path.join(".")) })) {
      problems.push(`${where}: not a valid ${schema.name} record (${paths.join(", ")})`);
    }
  });
  return { rows: rows.length, problems };
}

/** Personalize's minimum of interactions for training, checked on the Interactions rows. */
export function checkTrainingMinimums(interactions: readonly Row[]): string[] {
  const perUser = new Map<string, number>();
  for (const row of interactions) {
    const user = row.USER_ID ?? "";
    perUser.set(user, (perUser.get(user) ?? 0) + 1);
  }
  const active = [...perUser.values()].filter((count) => count >= 2).length;
  const problems: string[] = [];
  if (interactions.length < PersonalizeImportRules.minInteractions) {
    problems.push(
      `Interactions: ${interactions.length} rows, training needs at least ${PersonalizeImportRules.minInteractions}`,
    );
  }
  if (active < PersonalizeImportRules.minUsersWithTwoInteractions) {
    problems.push(
      `Interactions: ${active} users with 2 or more interactions, training needs at least ${PersonalizeImportRules.minUsersWithTwoInteractions}`,
    );
  }
  return problems;
}

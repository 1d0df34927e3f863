import { join } from "node:path";
import type { ProducerTransform } from "../../components/etl-job";

/** The songs product's transform: the catalogue table's songs, checked against the contract. */
export const songsTransform: ProducerTransform = {
  product: "songs",
  sqlFile: join(__dirname, "etl", "songs.sql"),
  sourceView: "songs_source",
};

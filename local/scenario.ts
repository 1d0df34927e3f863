import type { PublishEvent } from "../runtime/publisher";
import { seededRandom } from "../tooling/random";

/**
 * A seeded load for the four producers, shaped like the service: users sign up and change plans,
 * songs and episodes are published and edited, and listeners play, skip, like and follow in
 * sessions, mostly the catalogue published so far. The events are plain `PublishEvent`s: the
 * Publisher validates each against its product's contract, so a generator out of step with a
 * contract fails loudly instead of producing records consumers would reject.
 */
export interface ScenarioEvent {
  /** `<domain>/<product>`, e.g. `interactions/interaction-events`. */
  readonly product: string;
  readonly event: PublishEvent & { readonly id: string };
}

const GENRES = ["pop", "rock", "jazz", "hip-hop", "classical", "electronic"];
const CATEGORIES = ["news", "comedy", "science", "history", "sports"];
const COUNTRIES = ["GB", "DE", "FR", "ES", "US", "IE"];
const TIERS = ["free", "premium", "family"] as const;
const DEVICES = ["mobile", "desktop", "web", "speaker", "car"] as const;

export class Scenario {
  private readonly random: () => number;
  private count = 0;
  private readonly users: string[] = [];
  private readonly songs: string[] = [];
  private readonly episodes: { episodeId: string; podcastId: string }[] = [];
  private readonly sessions = new Map<string, { sessionId: string; left: number }>();

  constructor(
    private readonly seed: number,
    /** Prefix of every event id, so that two runs never share ids. */
    private readonly runId: string,
  ) {
    this.random = seededRandom(seed);
  }

  /** The next `n` events in the order a real mix would produce them. */
  next(n: number): ScenarioEvent[] {
    const events: ScenarioEvent[] = [];
    for (let i = 0; i < n; i++) events.push(this.one());
    return events;
  }

  private id(): string {
    return `${this.runId}-${++this.count}`;
  }

  private pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.random() * list.length)]!;
  }

  private one(): ScenarioEvent {
    const now = new Date().toISOString();
    const roll = this.random();
    // Catalogue and users first, then mostly interactions: about 5% users, 4% songs, 3% episodes.
    if (this.users.length < 5 || roll < 0.05) return this.user(now);
    if (this.songs.length < 5 || roll < 0.09) return this.song(now);
    if (this.episodes.length < 3 || roll < 0.12) return this.episode(now);
    return this.interaction(now);
  }

  private user(now: string): ScenarioEvent {
    if (this.users.length >= 5 && this.random() < 0.3) {
      return {
        product: "users/user-events",
        event: {
          id: this.id(),
          type: "user.updated",
          data: { userId: this.pick(this.users), tier: this.pick(TIERS), updatedAt: now },
        },
      };
    }
    const userId = `user-${this.seed}-${this.users.length + 1}`;
    this.users.push(userId);
    return {
      product: "users/user-events",
      event: {
        id: this.id(),
        type: "user.created",
        data: {
          userId,
          country: this.pick(COUNTRIES),
          tier: this.pick(TIERS),
          birthYear: 1950 + Math.floor(this.random() * 60),
          createdAt: now,
        },
      },
    };
  }

  private song(now: string): ScenarioEvent {
    if (this.songs.length >= 5 && this.random() < 0.2) {
      return {
        product: "songs/song-events",
        event: {
          id: this.id(),
          type: "song.updated",
          data: { songId: this.pick(this.songs), explicit: this.random() < 0.1, updatedAt: now },
        },
      };
    }
    const songId = `song-${this.seed}-${this.songs.length + 1}`;
    this.songs.push(songId);
    return {
      product: "songs/song-events",
      event: {
        id: this.id(),
        type: "song.published",
        data: {
          songId,
          title: `Song ${this.songs.length}`,
          artistId: `artist-${Math.floor(this.random() * 50)}`,
          genres: [this.pick(GENRES)],
          durationMs: 120_000 + Math.floor(this.random() * 180_000),
          releaseYear: 1970 + Math.floor(this.random() * 56),
          explicit: this.random() < 0.1,
          publishedAt: now,
        },
      },
    };
  }

  private episode(now: string): ScenarioEvent {
    if (this.episodes.length >= 3 && this.random() < 0.2) {
      const { episodeId, podcastId } = this.pick(this.episodes);
      return {
        product: "podcasts/episode-events",
        event: {
          id: this.id(),
          type: "episode.updated",
          data: { episodeId, podcastId, category: this.pick(CATEGORIES), updatedAt: now },
        },
      };
    }
    const episode = {
      episodeId: `episode-${this.seed}-${this.episodes.length + 1}`,
      podcastId: `podcast-${Math.floor(this.random() * 20)}`,
    };
    this.episodes.push(episode);
    return {
      product: "podcasts/episode-events",
      event: {
        id: this.id(),
        type: "episode.published",
        data: {
          ...episode,
          title: `Episode ${this.episodes.length}`,
          category: this.pick(CATEGORIES),
          language: "en",
          durationMs: 600_000 + Math.floor(this.random() * 3_000_000),
          explicit: false,
          publishedAt: now,
        },
      },
    };
  }

  private interaction(now: string): ScenarioEvent {
    const userId = this.pick(this.users);
    let session = this.sessions.get(userId);
    if (!session || session.left <= 0) {
      session = { sessionId: `session-${this.id()}`, left: 5 + Math.floor(this.random() * 20) };
      this.sessions.set(userId, session);
    }
    session.left--;
    const song = this.random() < 0.8;
    const common = {
      userId,
      itemId: song ? this.pick(this.songs) : this.pick(this.episodes).episodeId,
      itemType: song ? "song" : "episode",
      sessionId: session.sessionId,
      occurredAt: now,
      device: this.pick(DEVICES),
    };
    const roll = this.random();
    const event =
      roll < 0.6
        ? { type: "interaction.play", data: { ...common, playedMs: Math.floor(this.random() * 240_000) } }
        : roll < 0.85
          ? { type: "interaction.skip", data: { ...common, positionMs: Math.floor(this.random() * 30_000) } }
          : roll < 0.95
            ? { type: "interaction.like", data: common }
            : {
                type: "interaction.follow",
                data: {
                  ...common,
                  itemType: song ? "artist" : "podcast",
                  itemId: song ? "artist-1" : "podcast-1",
                },
              };
    return { product: "interactions/interaction-events", event: { id: this.id(), ...event } };
  }
}

// Who is listening on `GET /poll/:group/:pid`, and where each message goes:
// `poll://any@G[/P]` to P if connected, else to one member of G (round robin);
// `poll://uni@G/P` to P only. Memory is bounded: a message for a process that is not
// connected waits in a small, capped, expiring queue; an `any` message for an empty group is
// not kept at all, because the group's pending tasks are offered again (from the store) when
// its first member connects.
import { parsePollAddress } from "./address.ts";
import type { Message, Outgoing } from "./protocol.ts";

export interface PollConnection {
  readonly group: string;
  readonly pid: string;
  /** Writes one message; false when the connection is too far behind to take more. */
  send(message: Message): boolean;
}

export interface PollRegistryOptions {
  clock: () => number;
  /** Called when a group goes from no member to one: its pending work should be re-offered. */
  onGroupJoined: (group: string, connection: PollConnection) => void;
  /** How long a message for an absent process is held. Default 60 s. */
  holdMs?: number;
  /** At most this many held messages in all. Default 10,000. */
  maxHeld?: number;
}

interface Held {
  address: string;
  message: Message;
  expiresAt: number;
}

export class PollRegistry {
  readonly #groups = new Map<string, PollConnection[]>();
  readonly #nextIndex = new Map<string, number>();
  /** Keyed by uni address (group/pid); insertion order is age, so the oldest go first. */
  readonly #held = new Map<string, Held[]>();
  #heldCount = 0;
  readonly #options: Required<PollRegistryOptions>;

  constructor(options: PollRegistryOptions) {
    this.#options = { holdMs: 60_000, maxHeld: 10_000, ...options };
  }

  connect(connection: PollConnection): () => void {
    const members = this.#groups.get(connection.group) ?? [];
    const first = members.length === 0;
    members.push(connection);
    this.#groups.set(connection.group, members);
    this.#deliverHeld(connection);
    if (first) this.#options.onGroupJoined(connection.group, connection);
    return () => this.#disconnect(connection);
  }

  sendAll(messages: Outgoing[]): void {
    for (const { address, message } of messages) this.send(address, message);
  }

  send(address: string, message: Message): boolean {
    const parsed = parsePollAddress(address);
    if (!parsed) return false;
    const members = this.#groups.get(parsed.group) ?? [];
    if (parsed.pid !== undefined) {
      const preferred = members.find((m) => m.pid === parsed.pid);
      if (preferred?.send(message)) return true;
      if (parsed.cast === "uni") {
        this.#hold(`${parsed.group}/${parsed.pid}`, address, message);
        return false;
      }
    }
    return this.#sendToAnyMember(parsed.group, members, message);
  }

  #sendToAnyMember(group: string, members: PollConnection[], message: Message): boolean {
    const start = this.#nextIndex.get(group) ?? 0;
    for (let i = 0; i < members.length; i++) {
      const member = members[(start + i) % members.length];
      if (member?.send(message)) {
        this.#nextIndex.set(group, (start + i + 1) % members.length);
        return true;
      }
    }
    return false;
  }

  #hold(key: string, address: string, message: Message): void {
    this.#expire();
    if (this.#heldCount >= this.#options.maxHeld) return;
    const queue = this.#held.get(key) ?? [];
    queue.push({ address, message, expiresAt: this.#options.clock() + this.#options.holdMs });
    this.#held.set(key, queue);
    this.#heldCount++;
  }

  #expire(): void {
    const now = this.#options.clock();
    for (const [key, queue] of this.#held) {
      const kept = queue.filter((h) => h.expiresAt > now);
      this.#heldCount -= queue.length - kept.length;
      if (kept.length === 0) this.#held.delete(key);
      else this.#held.set(key, kept);
    }
  }

  #deliverHeld(connection: PollConnection): void {
    const key = `${connection.group}/${connection.pid}`;
    const queue = this.#held.get(key);
    if (!queue) return;
    this.#held.delete(key);
    this.#heldCount -= queue.length;
    const now = this.#options.clock();
    for (const held of queue) if (held.expiresAt > now) connection.send(held.message);
  }

  #disconnect(connection: PollConnection): void {
    const members = (this.#groups.get(connection.group) ?? []).filter((m) => m !== connection);
    if (members.length === 0) this.#groups.delete(connection.group);
    else this.#groups.set(connection.group, members);
  }
}

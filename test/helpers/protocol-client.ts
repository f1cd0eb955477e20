// Raw protocol access for tests: one envelope per call, and a poll stream reader.
let corr = 0;

export interface Answer {
  httpStatus: number;
  status: number;
  data: unknown;
}

export async function send(
  url: string,
  kind: string,
  data: unknown,
  auth?: string,
): Promise<Answer> {
  const head: Record<string, string> = { corrId: String(++corr), version: "2026-04-01" };
  if (auth !== undefined) head["auth"] = auth;
  const res = await fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind, head, data }),
  });
  const body = (await res.json()) as { head: { status: number }; data: unknown };
  return { httpStatus: res.status, status: body.head.status, data: body.data };
}

export interface PollMessage {
  kind: "execute" | "unblock";
  data: { task?: { id: string; version: number }; promise?: { id: string; state: string } };
}

export interface PollStream {
  messages: PollMessage[];
  /** Resolves once `predicate` holds for the messages received so far. */
  until(predicate: (messages: PollMessage[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openPoll(
  url: string,
  group: string,
  pid: string,
  token?: string,
): Promise<PollStream> {
  const controller = new AbortController();
  const res = await fetch(`${url}/poll/${group}/${pid}`, {
    signal: controller.signal,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  if (!res.ok || !res.body) throw new Error(`poll answered ${res.status}`);
  const messages: PollMessage[] = [];
  const waiters = new Set<() => void>();
  const reader: ReadableStreamDefaultReader<Uint8Array> = res.body.getReader();
  void (async () => {
    let buffer = "";
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          for (const line of event.split("\n")) {
            if (line.startsWith("data: ")) messages.push(JSON.parse(line.slice(6)) as PollMessage);
          }
          for (const wake of waiters) wake();
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return {
    messages,
    until(predicate, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (predicate(messages)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `poll ${group}/${pid}: condition not met in ${timeoutMs} ms (${messages.length} messages)`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close: () => controller.abort(),
  };
}

// What a `modulate server` has counted, read from its /metrics as an operator's scraper would.

/** How many requests of `kind` (e.g. "promise.register_listener") the server has been sent. */
export async function requestsOfKind(url: string, kind: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const prefix = `modulate_server_requests_total{kind="${kind}"`;
  let count = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(prefix)) continue;
    const match = /\} (\d+)/.exec(line);
    if (match) count += Number(match[1]);
  }
  return count;
}

/** One answer of the app under test: status, when it arrived, and the body (JSON when it parses). */
export interface Answer {
  status: number;
  at: number;
  body: unknown;
}

/** One HTTP request with a 5 s deadline; `body` is sent as JSON. */
export async function request(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const response = await fetch(new URL(path, baseUrl), {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: response.status, at: Date.now(), body: json };
}

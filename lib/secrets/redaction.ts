/**
 * What must never be printed: live secrets registered by the code that holds them (tokens, cookies,
 * passwords), masked wherever a message or log line is built, and the secret parts of URLs. The
 * lowest module of lib/: errors, logs and alerts all pass their text through it.
 */
const SECRET_PARAMS =
  /^(token|access_token|sign|signature|key|password|secret|x-amz-security-token|x-amz-signature)$/i;

/** Drops userinfo passwords and secret-bearing query parameters from a URL. */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return redactSecrets(raw);
  }
  if (url.password) url.password = '***';
  for (const name of [...url.searchParams.keys()]) {
    if (SECRET_PARAMS.test(name)) url.searchParams.set(name, '***');
  }
  return redactSecrets(url.toString().replaceAll('%2A%2A%2A', '***'));
}

// Anything that builds a message or log line passes through `redactSecrets`, so a secret that slips
// into an upstream error text is still masked.
const liveSecrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 6) liveSecrets.add(value);
}

export function forgetSecret(value: string | undefined): void {
  if (value) liveSecrets.delete(value);
}

export function redactSecrets(text: string): string {
  let out = text;
  for (const secret of liveSecrets) {
    if (out.includes(secret)) out = out.replaceAll(secret, '***');
  }
  return out;
}

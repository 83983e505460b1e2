'use strict';
/*
 * The upload storm's raw client, shaped as a handler so invoke-bundle.cjs drives it like a bundle:
 * one `POST dagRuns` with `fetch` per event `{ url, authorization, body }`, answering the HTTP status.
 * It is what a hand-written client does for an upload, with nothing around it.
 */
exports.handler = async ({ url, authorization, body }) => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body,
  });
  await response.arrayBuffer();
  return { status: response.status };
};

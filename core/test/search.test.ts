import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { registerUser, startTestNode } from './node.js';
import { expectMatchesSpec, specMissing } from './openapi.js';

let node: AxonNode;
let url: string;
beforeAll(async () => {
  ({ node, url } = await startTestNode());
});
afterAll(() => node.stop());

describe('search on a node', () => {
  it('finds a message the user can see, in the spec shape', async () => {
    const alice = await registerUser(url, 'alice');
    const h = { Authorization: `Bearer ${alice.access_token}`, 'Content-Type': 'application/json' };
    const { room_id } = (await (await fetch(`${url}/_matrix/client/v3/createRoom`, { method: 'POST', headers: h, body: '{}' })).json()) as { room_id: string };
    await fetch(`${url}/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/send/m.room.message/t1`, {
      method: 'PUT',
      headers: h,
      body: JSON.stringify({ msgtype: 'm.text', body: 'the quick brown fox' }),
    });
    await node.search.caughtUp();
    const res = await fetch(`${url}/_matrix/client/v3/search`, {
      method: 'POST',
      headers: h,
      body: JSON.stringify({ search_categories: { room_events: { search_term: 'brown', event_context: { before_limit: 1, after_limit: 1 } } } }),
    });
    const body = (await res.json()) as { search_categories: { room_events: { results: Array<{ result: { content: { body: string } } }> } } };
    expect(res.status).toBe(200);
    expect(body.search_categories.room_events.results.map((r) => r.result.content.body)).toEqual(['the quick brown fox']);
    if (!specMissing) expectMatchesSpec('POST', '/search', 200, body);
  });
});

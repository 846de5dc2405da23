import { clientApi } from './clientapi.js';
import { federation } from './federation.js';
import { p2pFederation } from './p2p.js';
import { inputPipeline } from './roomserver.js';
import { keys } from './keys.js';
import { push } from './push.js';
import { search } from './search.js';
import { stateResolution } from './stateres.js';

/** Every benchmark by name; each returns a JSON-able result. */
export const benchmarks: Record<string, () => Promise<unknown>> = {
  roomserver_input: inputPipeline,
  state_resolution: stateResolution,
  client_api: clientApi,
  p2p_federation: p2pFederation,
  federation,
  keys,
  search,
  push,
};

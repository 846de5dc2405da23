import type { AnyEndpoint } from '../http/index.js';
import type { ClientApiDeps } from './deps.js';
import { directoryEndpoints } from './routes/directory.js';
import { userDirectoryEndpoints } from './routes/userdirectory.js';
import { readMarkerEndpoints } from './routes/readmarkers.js';
import { reportEndpoints } from './routes/reports.js';
import { thirdPartyEndpoints } from './routes/thirdparty.js';
import { voipEndpoints } from './routes/voip.js';
import { roomEndpoints } from './routes/rooms.js';
import { sendEndpoints } from './routes/send.js';
import { serverEndpoints } from './routes/server.js';
import { stateEndpoints } from './routes/state.js';
import { versionsEndpoint } from './versions.js';

export type { ClientApiDeps } from './deps.js';
export { TransactionCache } from './transactions.js';
export { ContentReports } from './reports.js';

/** Every client-server endpoint the client API itself serves. */
export function clientApiEndpoints(deps: ClientApiDeps, opts: { baseUrl: () => string | undefined }): AnyEndpoint[] {
  return [
    versionsEndpoint,
    ...serverEndpoints(opts),
    ...roomEndpoints(deps),
    ...sendEndpoints(deps),
    ...stateEndpoints(deps),
    ...directoryEndpoints(deps),
    ...userDirectoryEndpoints(deps),
    ...readMarkerEndpoints(deps),
    ...reportEndpoints(deps),
    ...voipEndpoints(deps),
    ...thirdPartyEndpoints(),
  ];
}

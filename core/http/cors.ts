/** Headers the client-server spec asks for, so browser clients on any origin can call us. */
export const CORS_HEADERS: Readonly<Record<string, string>> = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'GET, HEAD, POST, PUT, DELETE, OPTIONS',
  'Access-Control-Allow-Headers': 'X-Requested-With, Content-Type, Authorization',
};

/** Responses made with the CORS headers already in them. Adding headers to a made response
 * turns its plain header object into a Headers instance, which costs a JSON reply about as
 * much as making it did. */
export const withCors = new WeakSet<Response>();

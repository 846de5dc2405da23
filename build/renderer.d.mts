/** Builds src-renderer/ into dist/renderer/ unless nothing changed; true when it built. */
export function buildRenderer(opts?: { force?: boolean }): Promise<boolean>;

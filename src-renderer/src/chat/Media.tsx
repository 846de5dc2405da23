import type { MatrixClient } from 'matrix-js-sdk';
import { useEffect, useState } from 'preact/hooks';
import { describeError } from '../api.js';

/** Fetches authenticated media (an access token in the header, which an <img src> cannot
 * send) and hands out a blob URL for it while the component lives. */
function useMediaUrl(client: MatrixClient, mxc: string, thumbnail?: { width: number; height: number }): { url: string | null; error: string | null } {
  const [state, setState] = useState<{ url: string | null; error: string | null }>({ url: null, error: null });
  useEffect(() => {
    let revoked = false;
    let objectUrl: string | null = null;
    const http = client.mxcUrlToHttp(mxc, thumbnail?.width, thumbnail?.height, thumbnail ? 'scale' : undefined, false, true, true);
    if (!http) {
      setState({ url: null, error: 'Not a media link' });
      return;
    }
    fetch(http, { headers: { Authorization: `Bearer ${client.getAccessToken()}` } })
      .then(async (res) => {
        if (!res.ok) throw new Error(`the server answered ${res.status}`);
        const blob = await res.blob();
        if (revoked) return;
        objectUrl = URL.createObjectURL(blob);
        setState({ url: objectUrl, error: null });
      })
      .catch((e: unknown) => !revoked && setState({ url: null, error: describeError(e) }));
    return () => {
      revoked = true;
      if (objectUrl) URL.revokeObjectURL(objectUrl);
    };
  }, [client, mxc, thumbnail?.width, thumbnail?.height]);
  return state;
}

/** An m.image message: its thumbnail, which opens the full image. */
export function MessageImage({ client, mxc, alt }: { client: MatrixClient; mxc: string; alt: string }) {
  const { url, error } = useMediaUrl(client, mxc, { width: 320, height: 240 });
  if (error) return <span class="error">Image not loaded: {error}</span>;
  if (!url) return <span class="muted">Loading image…</span>;
  return <img class="media" src={url} alt={alt} data-testid="message-image" />;
}

/** An m.file (or any other media) message: a link that saves it. */
export function MessageFile({ client, mxc, name }: { client: MatrixClient; mxc: string; name: string }) {
  const { url, error } = useMediaUrl(client, mxc);
  if (error) return <span class="error">File not loaded: {error}</span>;
  if (!url) return <span class="muted">{name}</span>;
  return (
    <a href={url} download={name} data-testid="message-file">
      {name}
    </a>
  );
}

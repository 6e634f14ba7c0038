// Sends an export as a file to save: streamed as it is made, never cached on the way.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

export type DownloadFormat = keyof typeof CONTENT_TYPES;

/**
 * How long a download may go without its client taking a byte before it is cut off: a reader that
 * stalls would otherwise hold its database read (and one of the few exports a process streams at
 * once) for as long as it likes.
 */
export const DOWNLOAD_STALL_MS = 60_000;

/**
 * Answers 200 with the chunks as the body of a file named fileName (characters outside an id's are
 * replaced). A client that goes away, or takes nothing for stallMs, ends the stream, which ends the
 * iterator (return()); a cut-off client sees the connection close mid-file, never a short file.
 */
export function sendDownload<R extends FastifyReply>(
  reply: R,
  { format, fileName, chunks }: { format: DownloadFormat; fileName: string; chunks: AsyncIterable<string> },
  stallMs = DOWNLOAD_STALL_MS,
): R {
  reply
    .header('Content-Type', CONTENT_TYPES[format])
    .header('Content-Disposition', `attachment; filename="${fileName.replace(/[^A-Za-z0-9_.:-]/g, '_')}"`)
    .header('Cache-Control', 'no-store');
  // Bytes, not objects: a page is one chunk, and the stream holds no more than one beyond what the socket takes.
  // The stream asks for the next chunk only once the socket has taken enough of the last ones: a
  // chunk given and none asked for since is a client that takes nothing (a slow source is not).
  let taken = Date.now();
  let making = false;
  async function* asked() {
    const source = chunks[Symbol.asyncIterator]();
    try {
      for (;;) {
        making = true;
        const next = await source.next();
        making = false;
        if (next.done === true) return;
        taken = Date.now();
        yield next.value;
      }
    } finally {
      await source.return?.();
    }
  }
  const body = Readable.from(asked(), { objectMode: false });
  const watch = setInterval(
    () => {
      if (making || Date.now() - taken < stallMs) return;
      reply.log.warn({ fileName, stallMs }, 'download cut off: its client took nothing for too long');
      body.destroy(new Error(`the client took nothing for ${stallMs} ms`));
      reply.raw.destroy();
    },
    Math.max(10, Math.min(stallMs / 4, 5000)),
  );
  watch.unref();
  body.once('close', () => clearInterval(watch));
  reply.send(body);
  return reply;
}

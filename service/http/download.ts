// Sends an export as a file to save: streamed as it is made, never cached on the way.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

export type DownloadFormat = keyof typeof CONTENT_TYPES;

/**
 * Answers 200 with the chunks as the body of a file named fileName (characters outside an id's are
 * replaced). A client that goes away destroys the stream, which ends the iterator (return()).
 */
export function sendDownload<R extends FastifyReply>(
  reply: R,
  { format, fileName, chunks }: { format: DownloadFormat; fileName: string; chunks: AsyncIterable<string> },
): R {
  reply
    .header('Content-Type', CONTENT_TYPES[format])
    .header('Content-Disposition', `attachment; filename="${fileName.replace(/[^A-Za-z0-9_.:-]/g, '_')}"`)
    .header('Cache-Control', 'no-store');
  // Bytes, not objects: a page is one chunk, and the stream holds no more than one beyond what the socket takes.
  reply.send(Readable.from(chunks, { objectMode: false }));
  return reply;
}

// The access review export (scope logs): every user's access to every client of an account, for
// auditors, streamed as CSV or NDJSON; the policy revision that judged it in a header.
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AccessReviews } from '../domain/access-review.ts';
import { route } from '../http/route.ts';
import { actorOf } from '../http/write-answers.ts';

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

export default async function accessReviewRoutes(app: FastifyInstance): Promise<void> {
  const { db, writer } = app.recordStore;
  const reviews = new AccessReviews(app.facts, () => app.policy.engine, app.decisionLog, app.metrics, db, writer);

  route(app, 'getAccessReview', {
    onRequest: app.requireScope('logs'),
    handler: async (request, reply) => {
      const { accountId } = request.params;
      const { action, format } = request.query;
      const review = await reviews.take(accountId, action, format, actorOf(request));
      const file = `access-review-${accountId}-${action}.${format}`;
      reply
        .header('Content-Type', CONTENT_TYPES[format])
        .header('Content-Disposition', `attachment; filename="${file.replace(/[^A-Za-z0-9_.:-]/g, '_')}"`)
        .header('Clearance-Policy-Revision', review.revision)
        .header('Date', review.takenAt.toUTCString());
      // A stream, which the document's string body stands for.
      (reply as unknown as FastifyReply).send(Readable.from(review.chunks));
      return reply;
    },
  });
}

// The access review export (scope logs): every user's access to every client of an account, for
// auditors, streamed as CSV or NDJSON; the policy revision that judged it in a header.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { AccessReviews } from '../domain/access-review.ts';
import { sendDownload } from '../http/download.ts';
import { route } from '../http/route.ts';
import { actorOf } from '../http/write-answers.ts';

export default async function accessReviewRoutes(app: FastifyInstance): Promise<void> {
  const { db, writer } = app.recordStore;
  const reviews = new AccessReviews(app.facts, () => app.policy.engine, app.decisionLog, app.metrics, db, writer);

  route(app, 'getAccessReview', {
    // A HEAD would run the whole review and drop it (Fastify's HEAD for a GET): not offered.
    exposeHeadRoute: false,
    onRequest: app.requireScope('logs'),
    handler: async (request, reply) => {
      const { accountId } = request.params;
      const { action, format } = request.query;
      const review = await reviews.take(accountId, action, format, actorOf(request));
      reply.header('Clearance-Policy-Revision', review.revision).header('Date', review.takenAt.toUTCString());
      // A stream, which the document's string body stands for.
      sendDownload(reply as unknown as FastifyReply, {
        format,
        fileName: `access-review-${accountId}-${action}.${format}`,
        chunks: review.chunks,
      });
      return reply;
    },
  });
}

// Wires the write side: the records API, API-token management and the audit trail. Every write
// goes through one AuditedWriter, which records it and drops what it touched from the fact cache.
// The records API (the facts API of SPEC §3) is one module per kind of record under
// domain/records/, each built on the store given here: one transaction per request, so a refusal
// changes nothing; none knows of HTTP (callers get records, outcomes and AppErrors).
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AuditedWriter, listAudit, type AuditEntry, type AuditQuery } from '../domain/audit.ts';
import type { RecordStore } from '../domain/records/parents.ts';
import { TokenService } from '../domain/tokens.ts';

export interface AuditReader {
  list(query: AuditQuery): Promise<{ entries: AuditEntry[]; next_cursor: string | null }>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** What the records API's modules read from and write through. */
    recordStore: RecordStore;
    tokenService: TokenService;
    auditTrail: AuditReader;
  }
  interface FastifyRequest {
    /** The consistency token of the write this request committed, once it did. */
    consistencyToken: string | null;
  }
}

async function recordsPlugin(app: FastifyInstance): Promise<void> {
  // Reads are short; writes (a bulk sync, an account deleted with all it holds) and the audit
  // trail's queries may take long (DatabaseHandle.longDb).
  const { db, longDb } = app.database;
  const writer = new AuditedWriter(longDb, app.facts);
  app.decorateRequest('consistencyToken', null);
  app.decorate('recordStore', { db, writer });
  app.decorate('tokenService', new TokenService(db, writer));
  app.decorate('auditTrail', { list: (query: AuditQuery) => listAudit(longDb, query) });
}

export default fp(recordsPlugin, { name: 'records', fastify: '5.x', dependencies: ['database', 'facts'] });

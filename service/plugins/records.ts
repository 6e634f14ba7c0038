// Wires the write side: the records API, API-token management and the audit trail. Every write
// goes through one AuditedWriter, which records it and drops what it touched from the fact cache.
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { AuditedWriter, listAudit, type AuditEntry, type AuditQuery } from '../domain/audit.ts';
import { recordService, type RecordService } from '../domain/records/service.ts';
import { TokenService } from '../domain/tokens.ts';

export interface AuditReader {
  list(query: AuditQuery): Promise<{ entries: AuditEntry[]; next_cursor: string | null }>;
}

declare module 'fastify' {
  interface FastifyInstance {
    recordService: RecordService;
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
  app.decorate('recordService', recordService(db, writer));
  app.decorate('tokenService', new TokenService(db, writer));
  app.decorate('auditTrail', { list: (query: AuditQuery) => listAudit(longDb, query) });
}

export default fp(recordsPlugin, { name: 'records', fastify: '5.x', dependencies: ['database', 'facts'] });

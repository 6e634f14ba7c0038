// Request bodies and what the HTTP layer refuses before any route: keys twice in one object,
// prototype keys, nesting beyond the bound, empty bodies, headers over the limit and malformed
// URLs — each a 4xx in the one error shape, naming the field where there is one.
import { request as httpRequest } from 'node:http';
import t, { type Test } from 'tap';
import { ADMIN_TOKEN, auditRows, contextApp, errorOf } from '../helpers/context.ts';

t.test('given the context API', async (t) => {
  const { app, database, admin } = await contextApp(t);
  const send = (
    method: 'PUT' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    payload: string,
    contentType = 'application/json',
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': contentType },
      payload,
    });
  const nothingWritten = async (t: Test, id: string) => {
    t.equal((await admin.get(`/v1/accounts/${id}`)).statusCode, 404, 'no account');
    t.same(
      (await auditRows(database.db)).filter((row) => row.record_id === id),
      [],
      'no audit entry',
    );
  };

  t.test('when a body gives a key twice, then 400 duplicate_key names it and nothing is written', async (t) => {
    const response = await send('PUT', '/v1/accounts/twice', '{"kind":"practice","name":"Shown","name":"Stored"}');
    t.equal(response.statusCode, 400);
    t.match(errorOf(response), {
      code: 'duplicate_key',
      message: /"name" appears more than once/,
      details: { field: 'name' },
    });
    await nothingWritten(t, 'twice');
  });

  t.test('when the repeated key is spelt with an escape, then it is the same key and refused', async (t) => {
    const response = await send('PUT', '/v1/accounts/twice', '{"kind":"practice","name":"a","na\\u006de":"b"}');
    t.equal(errorOf(response).code, 'duplicate_key');
    await nothingWritten(t, 'twice');
  });

  t.test('when keys repeat deep in a batch item, then the field names the item and the path', async (t) => {
    const item =
      '{"subject":{"id":"u"},"action":"client.view","resource":{"type":"client","id":"c","attributes":{"x":{"k":1,"k":2}}}}';
    const response = await send(
      'POST',
      '/v1/decide/batch',
      `{"requests":[${item.replace('"k":1,"k":2', '"k":1')},${item}]}`,
    );
    t.equal(response.statusCode, 400);
    t.match(errorOf(response), { code: 'duplicate_key', details: { field: 'requests[1].resource.attributes.x.k' } });
  });

  t.test('when a merge patch gives a key twice, then it is refused as well', async (t) => {
    t.equal((await admin.put('/v1/accounts/pp', { kind: 'practice', name: 'P' })).statusCode, 201);
    t.equal((await admin.put('/v1/accounts/pp/users/u1', { name: 'U', role: 'standard' })).statusCode, 201);
    const response = await send(
      'PATCH',
      '/v1/accounts/pp/users/u1',
      '{"role":"standard","role":"practice_admin"}',
      'application/merge-patch+json',
    );
    t.match(errorOf(response), { code: 'duplicate_key', details: { field: 'role' } });
    t.equal((await admin.get('/v1/accounts/pp/users/u1')).json().role, 'standard', 'unchanged');
  });

  t.test(
    'when keys only look alike, or braces and quotes sit inside strings, then the body is accepted as it is',
    async (t) => {
      const response = await send(
        'PUT',
        '/v1/accounts/alike',
        '{"kind":"practice","name":"x\\",\\"name\\":\\"y {[\\\\"}',
      );
      t.equal(response.statusCode, 201, response.body);
      t.equal(response.json().name, 'x","name":"y {[\\');
      const nested = await send(
        'POST',
        '/v1/decide',
        '{"subject":{"id":"u"},"action":"client.view","resource":{"type":"client","id":"c","attributes":{"id":1,"Id":2,"a":[{"id":1},{"id":2}],"b":{"id":3}}}}',
      );
      t.equal(nested.statusCode, 200, 'the same key in sibling objects is no repeat');
    },
  );

  t.test(
    'when a body holds __proto__ or constructor.prototype, then 400 forbidden_key says so and names where',
    async (t) => {
      const proto = await send(
        'PUT',
        '/v1/accounts/proto',
        '{"kind":"practice","name":"x","__proto__":{"admin":true}}',
      );
      t.equal(proto.statusCode, 400);
      t.match(errorOf(proto), {
        code: 'forbidden_key',
        message: /"__proto__" key is refused \(it could alter object prototypes\)/,
        details: { field: '__proto__' },
      });
      const deep = await send(
        'POST',
        '/v1/decide',
        '{"subject":{"id":"u"},"action":"client.view","resource":{"type":"client","id":"c","attributes":{"constructor":{"prototype":{"x":1}}}}}',
      );
      t.match(errorOf(deep), {
        code: 'forbidden_key',
        message: /"prototype" key inside "constructor"/,
        details: { field: 'resource.attributes.constructor.prototype' },
      });
      await nothingWritten(t, 'proto');
    },
  );

  t.test('when a body nests deeper than 64 levels, then 400 names where, before it is parsed', async (t) => {
    const response = await send(
      'PUT',
      '/v1/accounts/deep',
      `{"kind":"practice","name":${'['.repeat(200_000)}${']'.repeat(200_000)}}`,
    );
    t.equal(response.statusCode, 400);
    t.match(errorOf(response), {
      code: 'invalid_request',
      message: /deeper than 64 levels/,
      details: { field: /^name(\[0\]){63}$/ },
    });
    const justBelow = await send(
      'PUT',
      '/v1/accounts/deep',
      `{"kind":"practice","name":${'['.repeat(63)}${']'.repeat(63)}}`,
    );
    t.match(
      errorOf(justBelow),
      { code: 'invalid_request', details: { field: 'name' } },
      '63 levels inside the body parse; the schema refuses them',
    );
    await nothingWritten(t, 'deep');
  });

  t.test('when the body is empty or not JSON, then 400 invalid_json; a DELETE may still send no body', async (t) => {
    t.match(errorOf(await send('PUT', '/v1/accounts/e', '')), { code: 'invalid_json', details: { field: 'body' } });
    t.match(errorOf(await send('PUT', '/v1/accounts/e', '{"kind":')), {
      code: 'invalid_json',
      message: /^the body is not valid JSON: /,
    });
    t.equal((await admin.put('/v1/accounts/del', { kind: 'business', name: 'D' })).statusCode, 201);
    t.equal((await send('DELETE', '/v1/accounts/del', '')).statusCode, 204);
  });

  t.test('when the service listens', async (t) => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as { port: number };
    const raw = (path: string, headers: Record<string, string> = {}) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port, path, headers }, (res) => {
          let body = '';
          res.on('data', (d) => (body += d));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });

    t.test('when the headers are over the limit, then 431 in the error shape', async (t) => {
      const response = await raw('/health', { 'x-filler': 'x'.repeat(20_000) });
      t.equal(response.status, 431);
      t.match(JSON.parse(response.body), {
        error: { code: 'headers_too_large', message: /request headers exceed \d+ bytes/ },
      });
    });

    t.test('when the URL cannot be decoded, then 400 in the error shape', async (t) => {
      const response = await raw('/v1/accounts/%E0%A4%A');
      t.equal(response.status, 400);
      t.match(JSON.parse(response.body), { error: { code: 'bad_request', message: String } });
    });
  });
});

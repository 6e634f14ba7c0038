// Who has access to a client for an action: each user of its account as the active policy judges
// them (POST /v1/subjects/query with include_denied), the allowed ones, then the greyed-out ones
// with the policy's reasons, each linked to their decisions about the client.
import { client, ok, type Schemas } from '../api.ts';
import { readAll } from '../read-all.ts';
import { href, navigate } from '../route.ts';
import { useLoad } from '../use-load.ts';
import { Choice, Loading, Problem, Section } from './ui.tsx';

type User = Schemas['User'];
type Reason = Schemas['Reason'];

/** The actions on a client resource in the policy catalogue (policies/clearance/catalogue/tables.rego). */
const CLIENT_ACTIONS = [
  'client.view',
  'client.access',
  'client.edit',
  'client.console.view',
  'xbert.assign',
  'task.assign',
  'time.push',
] as const;
export const DEFAULT_CLIENT_ACTION = 'client.view';

export function WhoHasAccess({ accountId, clientId, action }: { accountId: string; clientId: string; action: string }) {
  const users = useLoad(
    () =>
      readAll(async (cursor) => {
        const answer = await ok(
          client.GET('/v1/accounts/{accountId}/users', {
            params: { path: { accountId }, query: { limit: 1000, cursor } },
          }),
        );
        return { items: answer.users, next_cursor: answer.next_cursor };
      }),
    [accountId],
  );
  const key = JSON.stringify([clientId, action]);
  const access = useLoad(
    async () => ({
      key,
      answer: await ok(
        client.POST('/v1/subjects/query', {
          body: { action, resource: { type: 'client', id: clientId }, include_denied: true },
        }),
      ),
    }),
    [key],
  );
  // An answer for another action is never shown under this one.
  const answer = access.data?.key === key ? access.data.answer : undefined;
  const known = new Map((users.data ?? []).map((user) => [user.id, user]));
  const options = CLIENT_ACTIONS.map((name) => [name, name] as const);
  return (
    <Section title="Who has access">
      <form class="picker" aria-label="Choose an action" onSubmit={(event) => event.preventDefault()}>
        <Choice
          label="Action"
          value={action}
          onValue={(value) => navigate(['clients', accountId, clientId], { action: value })}
          options={CLIENT_ACTIONS.some((name) => name === action) ? options : [[action, action] as const, ...options]}
        />
      </form>
      <p class="note">
        Each user of the account is judged by the active policy as a decision about this client would judge them. Asking
        is itself a decision: every time this list is shown, the query is written to the decision log.
        {answer === undefined ? null : (
          <>
            {' '}
            <a href={href(['decisions', answer.decision_id])}>This query in the decision log</a>.
          </>
        )}
      </p>
      <Problem error={users.error} />
      <Problem error={access.error} />
      {answer === undefined ? (
        access.error === null ? (
          <Loading what="who has access" />
        ) : null
      ) : (
        <>
          <p role="status">
            {action}: {count(answer.allowed.length)} allowed, {count(answer.denied?.length ?? 0)} not.
          </p>
          <UserTable
            caption={`Allowed to ${action}`}
            rows={answer.allowed.map((id) => ({ id, reasons: null }))}
            known={known}
            clientId={clientId}
            denied={false}
          />
          <UserTable
            caption={`Not allowed to ${action} (greyed out), with why`}
            rows={(answer.denied ?? []).map((denied) => ({ id: denied.id, reasons: denied.reasons }))}
            known={known}
            clientId={clientId}
            denied
          />
        </>
      )}
    </Section>
  );
}

const count = (n: number) => `${n} ${n === 1 ? 'user' : 'users'}`;

function UserTable({
  caption,
  rows,
  known,
  clientId,
  denied,
}: {
  caption: string;
  rows: ReadonlyArray<{ id: string; reasons: readonly Reason[] | null }>;
  known: ReadonlyMap<string, User>;
  clientId: string;
  denied: boolean;
}) {
  if (rows.length === 0) return null;
  return (
    <div class="table-wrap">
      <table class={denied ? 'stack users denied-users' : 'stack users'}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Id</th>
            <th scope="col">Role</th>
            {denied ? <th scope="col">Why not</th> : null}
            <th scope="col">Decisions</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => {
            const user = known.get(row.id);
            return (
              <tr key={row.id} class={row.reasons === null ? undefined : 'greyed'}>
                <td data-label="User">{user?.name ?? row.id}</td>
                <td data-label="Id">
                  <code>{row.id}</code>
                </td>
                <td data-label="Role">
                  {user === undefined ? '—' : user.status === 'active' ? user.role : `${user.role}, ${user.status}`}
                </td>
                {row.reasons === null ? null : (
                  <td data-label="Why not">
                    <ul class="reasons" aria-label={`Why ${row.id} may not`}>
                      {row.reasons.map((reason) => (
                        <li key={reason.code}>
                          <code>{reason.code}</code>
                          {reason.message ? ` — ${reason.message}` : ''}
                        </li>
                      ))}
                    </ul>
                  </td>
                )}
                <td data-label="Decisions">
                  <a
                    href={href(['decisions'], { subject_id: row.id, resource_id: clientId })}
                    aria-label={`Decision log of ${row.id} on ${clientId}`}
                  >
                    Decision log
                  </a>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

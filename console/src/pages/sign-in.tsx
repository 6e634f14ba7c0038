// Sign in with a token (an API token with the logs scope, and policy or admin for those pages).
import { useId, useState } from 'preact/hooks';
import type { ApiError } from '../api.ts';
import { Problem } from '../components/ui.tsx';

export function SignInPage({ onToken, refused }: { onToken: (token: string) => void; refused?: ApiError }) {
  const [token, setToken] = useState('');
  const id = useId();
  return (
    <main class="sign-in">
      <h1>Clearance console</h1>
      <p>Sign in with an API token. It is kept in this browser tab only, until you sign out or close the tab.</p>
      {refused === undefined ? null : <Problem error={refused} />}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          const value = token.trim();
          if (value !== '') onToken(value);
        }}
      >
        <div class="field">
          <label for={id}>Token</label>
          <input
            id={id}
            type="password"
            autocomplete="off"
            spellcheck={false}
            required
            value={token}
            onInput={(event) => setToken(event.currentTarget.value)}
          />
        </div>
        <button type="submit">Sign in</button>
      </form>
    </main>
  );
}

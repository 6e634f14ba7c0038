// The signed-in token lives in this tab's sessionStorage only: never in a URL, never in a cookie
// the server would read. Closing the tab or signing out forgets it.
const KEY = 'clearance.token';

export function storedToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function keepToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}

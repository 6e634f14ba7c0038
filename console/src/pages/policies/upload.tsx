// Upload a bundle (what `make policies` writes): stored inactive after the service's checks, or
// found already stored; a refused bundle is said plainly with what failed.
import { useId, useState } from 'preact/hooks';
import { type ApiError, authorizedFetch, type Schemas, asApiError } from '../../api.ts';
import { Problem, Section } from '../../components/ui.tsx';
import { href } from '../../route.ts';

interface Uploaded {
  created: boolean;
  revision: Schemas['PolicyRevision'];
}

export function UploadForm({ onUploaded }: { onUploaded: () => void }) {
  const inputId = useId();
  const [file, setFile] = useState<File | null>(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<Uploaded | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const upload = async () => {
    if (file === null) return;
    setBusy(true);
    setError(null);
    setResult(null);
    try {
      const response = await authorizedFetch('/v1/policies', {
        method: 'POST',
        headers: { 'content-type': 'application/gzip' },
        body: file,
      });
      setResult({ created: response.status === 201, revision: (await response.json()) as Schemas['PolicyRevision'] });
      onUploaded();
    } catch (failure) {
      setError(asApiError(failure));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Section title="Upload a bundle">
      <form
        class="upload"
        onSubmit={(event) => {
          event.preventDefault();
          void upload();
        }}
      >
        <div class="field">
          <label for={inputId}>Bundle</label>
          <input
            id={inputId}
            type="file"
            required
            accept=".tar.gz,.tgz,application/gzip"
            onChange={(event) => {
              setFile(event.currentTarget.files?.[0] ?? null);
              setResult(null);
              setError(null);
            }}
          />
        </div>
        <button type="submit" disabled={busy}>
          {busy ? 'Uploading…' : 'Upload'}
        </button>
      </form>
      <p class="hint">
        The bundle.tar.gz that <code>make policies</code> writes. It is checked, then stored inactive: run an impact
        analysis on it before you activate it.
      </p>
      <Problem error={error} />
      {result === null ? null : (
        <p role="status" class="uploaded">
          {result.created ? 'Stored as a new revision ' : 'Already stored: revision '}
          <a href={href(['policies', result.revision.revision])}>
            <code>{result.revision.revision}</code>
          </a>
          {result.created ? ' (inactive).' : '.'}
        </p>
      )}
    </Section>
  );
}

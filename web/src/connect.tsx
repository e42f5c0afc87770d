// Login Flow v2's approval: a sync client (Nextcloud desktop or mobile) opened
// /index.php/login/v2/flow/<token>, which leads here (#/connect/<token>) after sign-in. The page
// names the client and asks; granting lets the client's next poll receive an app password of its
// own (listed with the app passwords, revocable there), refusing ends the flow.
import { useEffect, useState } from 'preact/hooks';
import { answerLoginFlow, ApiError, loginFlowClient } from './api';
import { t } from './i18n';

export function Connect({ token, user }: { token: string; user: string }) {
  // undefined: loading; null: unknown or expired
  const [client, setClient] = useState<string | null | undefined>(undefined);
  const [done, setDone] = useState<'granted' | 'refused' | ''>('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    loginFlowClient(token).then(setClient, (err) => {
      if (err instanceof ApiError && err.status === 404) setClient(null);
      else { setClient(null); setError(t('error.generic', (err as Error).message)); }
    });
  }, [token]);

  async function answer(grant: boolean) {
    setBusy(true);
    setError('');
    try {
      await answerLoginFlow(token, grant);
      setDone(grant ? 'granted' : 'refused');
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) setClient(null);
      else setError(t('error.generic', (err as Error).message));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="connect">
      <h1>{t('connect.title')}</h1>
      {error && <p class="error" role="alert">{error}</p>}
      {client === undefined ? (
        <p aria-busy="true">{t('files.loading')}</p>
      ) : done === 'granted' ? (
        <p role="status" data-testid="connect-result">{t('connect.granted', client ?? '')}</p>
      ) : done === 'refused' ? (
        <p role="status" data-testid="connect-result">{t('connect.refused', client ?? '')}</p>
      ) : client === null ? (
        <p class="empty" data-testid="connect-result">{t('connect.expired')}</p>
      ) : (
        <section class="secret">
          <p data-testid="connect-client">{t('connect.asks', client, user)}</p>
          <p>{t('connect.explain')}</p>
          <div class="toolbar">
            <button type="button" disabled={busy} onClick={() => answer(true)}>{t('connect.grant')}</button>
            <button type="button" disabled={busy} onClick={() => answer(false)}>{t('connect.refuse')}</button>
          </div>
        </section>
      )}
    </main>
  );
}

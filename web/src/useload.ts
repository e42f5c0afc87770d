// What every list page does: load a list from the server (empty and an error line when that
// fails), and run a change then load again, the change's error shown on the same line.
import { useEffect, useState } from 'preact/hooks';
import { t } from './i18n';

export function useLoad<T>(load: () => Promise<T[]>, deps: unknown[]) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState('');
  const fail = (err: unknown) => setError(t('error.generic', (err as Error).message));
  async function refresh() {
    try {
      setItems(await load());
    } catch (err) {
      setItems((old) => old ?? []);
      fail(err);
    }
  }
  useEffect(() => { refresh(); }, deps);
  async function run(fn: () => Promise<unknown>) {
    setError('');
    try {
      await fn();
      await refresh();
    } catch (err) {
      fail(err);
    }
  }
  return { items, error, setError, fail, refresh, run };
}

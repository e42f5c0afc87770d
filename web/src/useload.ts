// What every list page does: load a list from the server (empty and an error line when that
// fails), and run a change then load again, the change's error shown on the same line.
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './i18n';

export function useLoad<T>(load: () => Promise<T[]>, deps: unknown[]) {
  const [items, setItems] = useState<T[] | null>(null);
  const [error, setError] = useState('');
  const fail = (err: unknown) => setError(t('error.generic', (err as Error).message));
  // Only the latest load is shown: an earlier one answering late (the page's first load, say,
  // after the load that follows a change) must not put back an older list.
  const latest = useRef(0);
  async function refresh() {
    const mine = ++latest.current;
    try {
      const loaded = await load();
      if (mine === latest.current) setItems(loaded);
    } catch (err) {
      if (mine !== latest.current) return;
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

// A value components can watch: `use(s)` re-renders the calling component when `s` changes.
import { useEffect, useState } from 'preact/hooks';

export interface Signal<T> {
  get(): T;
  set(v: T): void;
  subscribe(fn: () => void): () => void;
}

export function signal<T>(initial: T): Signal<T> {
  let value = initial;
  const watchers = new Set<() => void>();
  return {
    get: () => value,
    set: (v: T) => {
      value = v;
      watchers.forEach((w) => w());
    },
    subscribe: (fn) => {
      watchers.add(fn);
      return () => watchers.delete(fn);
    },
  };
}

export function use<T>(s: Signal<T>): T {
  const [, bump] = useState(0);
  useEffect(() => s.subscribe(() => bump((n) => n + 1)), [s]);
  return s.get();
}

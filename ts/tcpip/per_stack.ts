// State a module keeps for each network stack (a sandbox's, or a network namespace's), made
// on first use and gone with the stack.

import type { Stack } from './stack';

/** The getter of a per-stack value that `make` creates the first time a stack asks. */
export function perStack<T extends object>(make: () => T): (stack: Stack) => T {
  const all = new WeakMap<Stack, T>();
  return (stack) => {
    let v = all.get(stack);
    if (v === undefined) all.set(stack, v = make());
    return v;
  };
}

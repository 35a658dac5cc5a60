/**
 * Remembers the last arguments and result: derived lists (sorted rows, counts per agent) keep
 * their identity while their sources do, so components below skip re-rendering.
 */
export function memoize<A extends unknown[], R>(derive: (...args: A) => R): (...args: A) => R {
  let last: { args: A; result: R } | undefined;
  return (...args) => {
    if (last && last.args.length === args.length && last.args.every((arg, i) => Object.is(arg, args[i]))) {
      return last.result;
    }
    const result = derive(...args);
    last = { args, result };
    return result;
  };
}

/**
 * Copies of an image perturbed cumulatively (step s holds the changes of steps 0 … s), for `scoreCopies`: the
 * state of the last copy built is kept, so copies asked in order cost one step each; out of order, the state
 * is rebuilt from the image.
 */
export function cumulativeFill(x: Float32Array, size: number, apply: (state: Float32Array, image: number, step: number) => void): (image: number, step: number, out: Float32Array) => void {
  let state = new Float32Array(size);
  let image = -1;
  let done = -1;
  return (i, s, out) => {
    if (i !== image || s < done + 1) {
      state = x.slice(i * size, (i + 1) * size);
      image = i;
      done = -1;
    }
    while (done < s) apply(state, i, ++done);
    out.set(state);
  };
}

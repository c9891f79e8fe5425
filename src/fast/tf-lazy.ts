/**
 * tfjs for the fast path, loaded on first use. The fast path needs tfjs only for what its
 * JavaScript tables cannot do (a plan the mirror cannot express, resizing, float16/float32
 * encoding, float pixel data); a worker thread that never meets those never loads it
 * (~0.2 s of CPU per thread). On a thread without a backend yet (a worker), tfjs-cpu is set:
 * the fast path's bytes are defined as the cpu backend's.
 *
 * @example
 *   const tf = await loadTf();
 */
type Tf = typeof import('@tensorflow/tfjs-core');

let loading: Promise<Tf> | undefined;

export function loadTf(): Promise<Tf> {
  loading ??= (async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    if (tf.engine().backendName !== 'cpu') {
      tf.enableProdMode();
      if (!(await tf.setBackend('cpu'))) throw new Error('fast path: tfjs cpu backend failed to initialise');
    }
    return tf;
  })();
  return loading;
}

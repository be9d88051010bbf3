import type * as tfTypes from '@tensorflow/tfjs';

type Tf = typeof tfTypes;

/**
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel, so Conv1D (run as a 1×k Conv2D)
 * cannot be trained on it. This replaces the filter gradient of `Conv2D`, on wasm only, by the same
 * sum written with ops wasm has: dW[i,j,:,:] = Σₙ,ₕ,ᵥ x[n,h+i,v+j,:]ᵀ · dy[n,h,v,:], one matMul per
 * filter tap. Stride 1, dilation 1, NHWC, `valid` or `same` padding (what the trainer builds);
 * anything else, and every other backend, keeps the stock gradient.
 */
export function patchConvFilterGradient(tf: Tf): void {
  const stock = tf.getGradient('Conv2D');
  if (!stock) return;
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const grads = stock.gradFunc(dy, saved, attrs) as Record<string, () => tfTypes.Tensor>;
      const { strides, pad, dataFormat, dilations } = attrs as unknown as {
        strides: number | [number, number];
        pad: unknown;
        dataFormat: string;
        dilations: number | [number, number];
      };
      const ones = (v: number | [number, number]) => (Array.isArray(v) ? v.every((d) => d === 1) : v === 1);
      const supported =
        tf.getBackend() === 'wasm' && ones(strides) && ones(dilations ?? 1) && (dataFormat ?? 'NHWC') === 'NHWC' && (pad === 'valid' || pad === 'same');
      if (!supported) return grads;
      const [x, filter] = saved as [tfTypes.Tensor4D, tfTypes.Tensor4D];
      return {
        x: grads.x!,
        filter: () =>
          tf.tidy(() => {
            const [fh, fw, channels, filters] = filter.shape;
            const [n, oh, ow] = (dy as tfTypes.Tensor4D).shape;
            let input: tfTypes.Tensor4D = x;
            if (pad === 'same') {
              // tfjs 'same' at stride 1 pads (k−1) in total, the smaller half before.
              const top = Math.floor((fh - 1) / 2);
              const left = Math.floor((fw - 1) / 2);
              input = tf.pad(x, [
                [0, 0],
                [top, fh - 1 - top],
                [left, fw - 1 - left],
                [0, 0],
              ]);
            }
            const dy2 = (dy as tfTypes.Tensor4D).reshape([n * oh * ow, filters]);
            const taps: tfTypes.Tensor2D[] = [];
            for (let i = 0; i < fh; i++) {
              for (let j = 0; j < fw; j++) {
                const window = tf.slice(input, [0, i, j, 0], [n, oh, ow, channels]).reshape([n * oh * ow, channels]);
                taps.push(tf.matMul<tfTypes.Tensor2D>(window, dy2, true, false));
              }
            }
            return tf.stack(taps).reshape([fh, fw, channels, filters]);
          }),
      };
    },
  });
}

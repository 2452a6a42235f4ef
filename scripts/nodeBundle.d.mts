import type { BuildOptions } from 'esbuild'

export declare const NODE_BUNDLE: Readonly<Pick<BuildOptions, 'bundle' | 'platform' | 'format' | 'packages' | 'target'>>

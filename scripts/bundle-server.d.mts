// Types of bundle-server.mjs for the TypeScript tests that bundle the server as images do.
export declare const CHUNK_PREFIX: string;
export declare function asciiOnly(text: string): string;
export declare function runtimeBuildOptions(version: string): Record<string, unknown>;
export declare function bundleServer(entry: string, outdir: string, version: string): Promise<string[]>;

/**
 * Text modules: wrangler's default rule imports `*.txt` as a string (the t.js bundle in
 * generated/, which worker-runtime.ts serves as /t.js).
 */
declare module '*.txt' {
  const text: string;
  export default text;
}

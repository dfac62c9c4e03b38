/** pino ships its browser build without typings; it has the Node build's API. */
declare module 'pino/browser.js' {
  import { pino } from 'pino';
  export default pino;
}

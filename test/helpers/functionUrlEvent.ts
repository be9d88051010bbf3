// The tests call the predict handler with the same function URL events as `npm start -- --serve`.
export { functionUrlEvent } from '../../functions/local/functionUrlEvent.js';

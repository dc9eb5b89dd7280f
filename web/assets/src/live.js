/** Live notices without reloading (filled in by a later step). */
export function startLive() {}

/** The inbox's keyboard (filled in by a later step). */
export function startKeys() {}

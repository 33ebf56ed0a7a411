// Where the repository (or, in the image, /app) starts, as a URL. It sits one level below the root
// on purpose: bundled, every chunk lands in dist/, also one level below, so `../` means the same
// directory whether the operator runs from src/ or from the bundle.
export const REPO_ROOT: URL = new URL('../', import.meta.url);

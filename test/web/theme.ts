/** Loads the app's theme into the test page once, so contrast checks see the real colours. */
let loaded: Promise<void> | undefined;

export function useTheme(): Promise<void> {
  loaded ??= new Promise<void>((resolve, reject) => {
    const link = document.createElement('link');
    link.rel = 'stylesheet';
    link.href = '/src/styles/theme.css';
    link.onload = () => resolve();
    link.onerror = () => reject(new Error('theme.css did not load'));
    document.head.append(link);
  });
  return loaded;
}

// Leaflet's ES module build has the same API as the package's (UMD) entry that @types/leaflet
// describes; the nodes map imports the module build, which works in Vite and the test runner.
declare module 'leaflet/dist/leaflet-src.esm.js' {
  export * from 'leaflet';
}

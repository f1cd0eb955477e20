// Stand-in for react-devtools-core, which Ink loads only under DEV=true: the single
// executable never connects to React DevTools, so nothing here is ever called.
export default { initialize(): void {}, connectToDevTools(): void {} };

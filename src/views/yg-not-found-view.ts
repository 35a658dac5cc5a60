import { LitElement, html } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { viewStyles } from './view-styles.js';

/** Also where the manifest's shortcut to a view not built yet (the catalog) lands. */
@customElement('yg-not-found-view')
export class YgNotFoundView extends LitElement {
  static override styles = viewStyles;

  @property() path = '';

  override render() {
    return html`
      <header><h1>Nothing here yet</h1></header>
      <p>There is no page at <code>${this.path}</code> in this version of the dashboard.</p>
      <p><a href="/">Back to the overview</a></p>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'yg-not-found-view': YgNotFoundView;
  }
}

import { Component, type ComponentChildren } from 'preact';

/** Turns a rendering error into a message and a way out, instead of a blank window. */
export class ErrorBoundary extends Component<{ children: ComponentChildren; resetKey?: unknown }, { error: Error | null }> {
  override state = { error: null as Error | null };

  // New data (a fresh status snapshot) gets a fresh attempt: a transient fault heals itself.
  override componentDidUpdate(prev: { resetKey?: unknown }): void {
    if (this.state.error && prev.resetKey !== this.props.resetKey) this.setState({ error: null });
  }

  override componentDidCatch(error: Error): void {
    console.error('axon ui:', error);
    this.setState({ error });
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <main class="center">
        <div class="card" role="alert">
          <h2>Something went wrong on this page</h2>
          <p class="error" data-testid="ui-error">
            {this.state.error.message}
          </p>
          <button type="button" onClick={() => this.setState({ error: null })}>
            Try again
          </button>{' '}
          <button type="button" class="secondary" onClick={() => location.reload()}>
            Reload
          </button>
        </div>
      </main>
    );
  }
}

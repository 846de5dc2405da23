import { render } from 'preact';
import { App } from './App.js';
import './styles.css';

const root = document.getElementById('app')!;
// Drop the static "Starting…" placeholder: render() keeps what it does not own.
root.textContent = '';
render(<App />, root);

// Read keys the user entered, kept in this browser's localStorage only.

const STORE = 'insights.projects';
const CURRENT = 'insights.current';

function readAll() {
  try {
    const list = JSON.parse(localStorage.getItem(STORE) ?? '[]');
    return Array.isArray(list)
      ? list.filter((p) => p && typeof p.id === 'string' && typeof p.key === 'string')
      : [];
  } catch {
    return [];
  }
}

export function savedProjects() {
  return readAll();
}

export function saveProject(project) {
  const others = readAll().filter((p) => p.id !== project.id);
  localStorage.setItem(STORE, JSON.stringify([...others, project]));
  localStorage.setItem(CURRENT, project.id);
}

export function forgetProject(id) {
  localStorage.setItem(STORE, JSON.stringify(readAll().filter((p) => p.id !== id)));
  if (localStorage.getItem(CURRENT) === id) localStorage.removeItem(CURRENT);
}

export function currentProjectId() {
  return localStorage.getItem(CURRENT);
}

export function setCurrentProject(id) {
  localStorage.setItem(CURRENT, id);
}

/** Names the metadata database behind a benchmarked Airflow, for the report: its engine and version. */
import pg from 'pg';

/** `PostgreSQL 15.20 (127.0.0.1:5432)` or `SQLite`, from the SQLAlchemy URL the harness chose. */
export async function describeDatabase(databaseUrl: string): Promise<string> {
  if (databaseUrl.startsWith('sqlite:')) return 'SQLite';
  const url = new URL(databaseUrl.replace(/^postgresql\+\w+:/, 'postgresql:'));
  const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    const version = rows[0]?.server_version.split(' ')[0] ?? 'unknown version';
    return `PostgreSQL ${version} (${url.host})`;
  } catch {
    return `PostgreSQL (${url.host})`;
  } finally {
    await client.end().catch(() => {});
  }
}

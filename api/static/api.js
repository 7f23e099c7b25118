/** HTTP helpers: JSON in and out, and the service's `{"error", "detail"}` refusals as exceptions. */

export class ApiFailure extends Error {
  constructor(status, body) {
    super(typeof body.detail === 'string' ? body.detail : body.error)
    this.name = 'ApiFailure'
    this.status = status
    this.code = body.error
    this.waitMs = body.wait_ms ?? null
    this.body = body
  }
}

export async function failureOf(response) {
  let body = null
  try {
    body = await response.json()
  } catch {
    // not JSON: a proxy's page, or nothing at all
  }
  if (typeof body !== 'object' || body === null) body = {}
  body.error ??= `http_${response.status}`
  body.detail ??= response.statusText
  return new ApiFailure(response.status, body)
}

export async function expectOk(response) {
  if (!response.ok) throw await failureOf(response)
  return response
}

export function jsonRequest(method, body) {
  return {
    method,
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(body),
  }
}

export async function getJson(url) {
  const response = await expectOk(await fetch(url, { headers: { Accept: 'application/json' } }))
  return response.json()
}

export async function postJson(url, body) {
  const response = await expectOk(await fetch(url, jsonRequest('POST', body)))
  return response.status === 204 ? null : response.json()
}

/**
 * The signed-in account, if any: the one sign-in of this origin (Pixel Wars' page keeps it, and
 * refreshes it, for every page). Its token goes with the desk's API calls and socket hello, so
 * the desks it created or opened are found by their name in any of its browsers.
 */

import { ApiFailure, expectOk, jsonRequest, postJson } from '../api.js'
import { Session } from '../canvas/session.js'

export const account = new Session()

/** `POST` as the signed-in account; one whose sign-in was refused meanwhile goes on signed out. */
export async function postAsAccount(url, body) {
  let response
  try {
    response = await expectOk(await account.fetch(url, jsonRequest('POST', body)))
  } catch (error) {
    const signedOut = error instanceof ApiFailure && error.status === 401 && !account.signedIn
    if (!signedOut) throw error
    return postJson(url, body)
  }
  return response.status === 204 ? null : response.json()
}

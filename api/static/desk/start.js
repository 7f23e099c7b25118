/** `/desk`: create a desk, or open the live one of a name, then go to its link. */

import { postJson } from '../api.js'
import { remember } from './session.js'

const form = document.getElementById('open')
const problem = document.getElementById('problem')

form.addEventListener('submit', async (event) => {
  event.preventDefault()
  const createNew = event.submitter?.value === 'new'
  problem.hidden = true
  try {
    const opened = await postJson('/api/desk/init', { name: form.elements.name.value, create_new: createNew })
    remember(opened)
    location.assign(`/desk/${opened.desk_id}`)
  } catch (error) {
    problem.textContent = error.message
    problem.hidden = false
  }
})
